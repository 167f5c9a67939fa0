"""A local server speaking the Telnyx port-out API (v2), with the account's number inventory
(`GET /v2/phone_numbers`), for demos, tests and benchmarks.

Command line (foreground, Ctrl-C to stop)::

    python manage.py telnyx_sandbox --port 8010 --seed 500 \\
        [--webhook-url URL] [--public-key-file PATH] [--traffic SECONDS] [--api-key KEY] \\
        [--authorize-after-hours H] [--reject-delay S] \\
        [--latency-ms N] [--rate-limit-ratio F] [--error-ratio F] [--drop-ratio F] \\
        [--slow-ratio F --slow-seconds S] [--fault-seed N]
    python manage.py telnyx_sandbox --seed 500 --write-customers var/demo-customers.csv
    python -m telnyx_sandbox ...   # same options, without Django

Python::

    from telnyx_sandbox.server import SandboxServer
    server = SandboxServer(seed_count=60, report_delay=0)
    base_url = server.start()          # "http://127.0.0.1:<port>/v2"
    server.public_key_b64              # webhook verification key
    server.state.create_portout(...)   # add_comment, change_status, change_foc_date, advance,
                                       # bounce_rejection; server.state.inventory (numbers)
    server.write_customers("customers.csv")
    server.faults.configure(error_ratio=0.2); server.faults.queue("429", "drop")
    server.stop()

The dashboard never imports this package; it only talks to it over HTTP.
"""
