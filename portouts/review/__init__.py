"""Review services: what a reviewer does to a port-out through the dashboard.

By concern:

* `decisions`: `portout_authorize`, `portout_reject`, `eligible_codes_load`; the re-read
  before deciding and the re-check after a failed change request.
* `rules`: the rules of a decision, each written once (the reason sent, when a reason is
  required, the eligible codes, how a decision is recognised on a later read).
* `comments`: `portout_comment`.
* `attachments`: `portout_attach_document` (upload and attach in one request).
* `audit`: the ReviewAction rows: written before the Telnyx call, completed with its
  answer, replayed for a double submit (event republishes use it too).
* `reconcile`: `review_actions_reconcile`, settling rows left "started" (beat).

Services are keyword-only `<entity>_<action>` functions returning a `ReviewResult`; they
talk to Telnyx within the budget of a web request (`portouts.interactive`) and update the
cache only from what Telnyx answers. What a Telnyx failure reads like is
`portouts.telnyx.failure_sentence`.

Import the module you need (`from portouts.review import decisions`): this package
imports none of them, so forms can read `rules` without loading the services.
"""

from __future__ import annotations
