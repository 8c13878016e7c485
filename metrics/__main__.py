import sys

from metrics.cli import main
from metrics.limits import few_malloc_arenas

few_malloc_arenas()
sys.exit(main())
