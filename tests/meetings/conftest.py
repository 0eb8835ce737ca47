import atexit
import shutil
import tempfile

from hypothesis import configuration

# Hypothesis caches Unicode tables under ./.hypothesis by default; keep the working tree clean.
_home = tempfile.mkdtemp(prefix="calsync-hypothesis-")
configuration.set_hypothesis_home_dir(_home)
atexit.register(shutil.rmtree, _home, ignore_errors=True)
