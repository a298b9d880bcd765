"""What a running session and its hooks share, below both.

    cassette/  ──►  runtime/  ──►  session/   (record, replay: the decisions)
                        │
                        └──────►  intercept/ (the hooks: what happened)

A hook never imports a session. It finds the active one with
`scope.active_session()` and talks to it through the `contract.ActiveSession`
Protocol: answer or record an HTTP exchange, read the clock, draw entropy,
answer a tool call, sleep virtually, report a divergence. Sessions install
the hooks through `registry`, which imports them by name when first needed.

- `contract`: the Protocol and the data that crosses it;
- `scope`: where the active session is found (one function);
- `tasks`: logical task ids, carried in a context variable;
- `callers`: who is calling (agent code, a library, or machinery);
- `escape`: the real functions the hooks replace;
- `registry`: the interceptors, installed on first use and removed on last.
"""
