"""Staff corrections kept in the operational store, as training data for the classifier.

Rule: an appeal is a correction when staff confirmed a subcategory that differs from the
classifier's suggestion, or assigned it to a lead unit other than the suggested one. Its text is
the appeal's title and description (what the classifier saw at intake), its unit the lead unit
(or the subcategory's default unit before assignment). Rejected appeals are left out.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shengxin.appeals.classify.model import Correction
from shengxin.appeals.classify.taxonomy import load_taxonomy


def corrections_from_appeals(session: Session) -> list[Correction]:
    """Every staff correction of a classifier suggestion, oldest first."""
    from shengxin.appeals.models import Appeal

    taxonomy = load_taxonomy()
    q = (
        select(Appeal.title, Appeal.description, Appeal.subcategory_code, Appeal.lead_unit,
               Appeal.suggested_subcategory, Appeal.suggested_unit)
        .where(Appeal.subcategory_code.is_not(None), Appeal.suggested_subcategory.is_not(None),
               Appeal.status != "rejected",
               or_(Appeal.subcategory_code != Appeal.suggested_subcategory,
                   Appeal.lead_unit != Appeal.suggested_unit))
        .order_by(Appeal.id)
    )
    out = []
    for title, description, sub_code, lead, _sug_sub, _sug_unit in session.execute(q):
        sub = taxonomy.subcategory(sub_code)
        if sub is None:  # a retired or unknown code cannot be trained on
            continue
        text = f"{title}\n{description}" if title else description
        out.append(Correction(text, sub.category_code, sub.code, lead or sub.unit))
    return out
