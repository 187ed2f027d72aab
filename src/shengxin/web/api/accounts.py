"""Users API (district admin manages; auditor reads)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal, UserCreate, create_user, list_users
from shengxin.web.deps import get_db
from shengxin.web.security import access

router = APIRouter(prefix="/api/users", tags=["accounts"])


class UserIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8)
    display_name: str = ""
    role: Role
    uscc: str | None = None
    town_code: str | None = None
    department_code: str | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    uscc: str | None
    town_code: str | None
    department_code: str | None


def _public(p: Principal) -> UserPublic:
    return UserPublic(id=p.id, username=p.username, display_name=p.display_name, role=p.role,
                      uscc=p.uscc, town_code=p.town_code, department_code=p.department_code)


@router.get("", response_model=list[UserPublic])
def users(db: Session = Depends(get_db), _: Principal = Depends(access(Role.ADMIN, Role.AUDITOR))):
    return [_public(p) for p in list_users(db)]


@router.post("", response_model=UserPublic, status_code=201)
def users_create(body: UserIn, request: Request, db: Session = Depends(get_db),
                 principal: Principal = Depends(access(Role.ADMIN))):
    created = create_user(db, UserCreate(**body.model_dump()), request.app.state.district, principal.actor)
    db.commit()
    return _public(created)
