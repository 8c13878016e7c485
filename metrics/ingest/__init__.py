"""Everything that brings data in: reading a file (reader.py, in a child process by worker.py), shaping it
(shape.py), the upload checks (validation.py), committing a batch or rolling one back (upload.py), the units,
sectors and targets files, the demo store (demo.py, initialise.py) and replaying every upload (rebuild.py).
"""
