"""A lead's state and the one door every change of it goes through.

- ``machine``: the state machine as pure functions: which moves each piece of state may make.
- ``door``: ``Door``, which locks the leads, checks each move, writes its ``lead_event`` and
  carries out its consequences.
- ``handoff``: routing decisions carried out through the door, a manager's reassignment, and
  routing every lead that has no owner.
- ``facts``: loading (and locking) leads as the rules see them.

No other module assigns a lead's status, lifecycle stage, touch stage, owner, team, level,
temperature or validity (``tests/unit/test_architecture.py`` checks it).
"""
