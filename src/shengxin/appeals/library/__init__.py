"""Problem library (问题库): groups of similar appeals become classes of cases that staff own.

``grouping`` finds the groups (pure functions over plain records); ``service`` keeps promoted
entries in the operational store; ``models`` is their table.
"""
