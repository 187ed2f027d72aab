"""Appeals (诉求): one intake pool for every channel, routing, a state machine with working-day
deadlines per stage, return visits, statistics. See docs/appeals.md."""
