"""Development-only triage work: training, evaluation and the team's real-text labels.

Not part of the wheel: the runtime package (``agent.triage``) carries the shipped model
and what scoring needs; this package carries what builds and measures that model.
"""
