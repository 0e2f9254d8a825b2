"""Provider-neutral pieces shared by every emulator (one small module each).

``clock`` (virtual or scaled-real time), ``calllog`` (the numbered, thread-safe call log),
``messages`` (the request and response values passed
between the transports and an engine) and ``transport`` (the in-process httpx transport). Each
emulator's own modules re-export what they used to define, so their old import paths still work.
This package imports only the standard library and the emulators' HTTP dependencies; never an
emulator.
"""
