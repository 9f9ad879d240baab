"""Compatibility shims that let the DC/OS CLI 0.6.1 (dcos and dcoscli on PyPI, 2018) run on Python 3.11.

need_dcos_venv (tests/prereqs.sh) copies this package into .venv/dcos-cli beside the CLI, and the
.venv/bin/dcos it writes imports it before dcoscli, so the patches apply to the CLI process only,
not to the other tools in .venv.
"""
import collections
import collections.abc
import warnings

# Python 3.10 removed the ABC aliases from `collections`: dcos.config (class Toml(collections.Mapping)
# at import time), dcos.util, dcos.jsonitem, dcos.emitting and dcos.packagemanager use them.
for _name in ("Mapping", "MutableMapping", "Sequence", "MutableSequence", "Iterable", "Callable"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

# dcos.config, dcos.rpcclient and dcoscli.subcommand read their data files with pkg_resources;
# setuptools >= 67 warns on that import (only a message, the API still works there).
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
warnings.filterwarnings("ignore", message=".*pkg_resources.*", category=DeprecationWarning)
