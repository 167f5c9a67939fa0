"""Risk flags with their reasons, expected port-outs, the watch list, the end user's own
answer and outcome labels.

Flags inform, they never block or decide: the decision stays a person's.

By concern: `registry` (what a flag is, and the one place flags are registered),
`evidence` (everything the flags read, loaded for a batch of port-outs in a fixed number of
queries), `flags` (one small function per flag), `engine` (`risk_assess`: run the flags,
store RiskFlag rows and the score), `matching` (the one fuzzy comparison of names and
addresses), `watchlist` (watch-list and expected-port services), `confirmation` (the signed
single-use link and its answer), `outcomes` (labels of ended port-outs), `selectors` (what
pages read). The engine reads only the cache: it never calls Telnyx.

To add a flag: add its kind and severity to `portouts.choices` (RiskFlagKind,
FLAG_SEVERITY), write `@risk_flag(RiskFlagKind.X) def x(portout, evidence) -> str | None`
in `flags.py` (return the sentence, or None), and, if it needs data the Evidence does not
hold yet, add one loader there.
"""
