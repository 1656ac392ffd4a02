"""The run controller: the timeline clock that drives the engine, the recorder and the store."""
