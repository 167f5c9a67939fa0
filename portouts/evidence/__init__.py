"""Evidence for a reviewer: who owns a port-out's numbers, how the carrier's names and
address compare with our customer record, the PIN result, earlier requests for the same
numbers and numbers of the same customer left behind.

`compare` (the one fuzzy comparison of names and addresses), `pin` (the PIN rule),
`selectors` (`portout_evidence`, and `portouts_evidence` for a batch such as the risk
flags', read from the cache only), `customers` (the CSV import).
"""
