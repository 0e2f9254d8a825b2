"""Provider-neutral pieces shared by every emulator (one small module each).

``clock`` (virtual or scaled-real time), ``messages`` (the request and response values passed
between the transports and an engine), ``transport`` (the in-process httpx transport),
``server`` (the loopback HTTP server), ``calllog`` (the numbered, thread-safe call log) and
``faults`` (fault rules' matching and firing). Each emulator keeps its own names, error shapes,
record and rule types on top of them; the modules that used to define a moved piece re-export
it, so old import paths still work. This package imports only the standard library and the
emulators' HTTP dependencies; never an emulator.
"""
