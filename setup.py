"""Build hook for the optional C accelerator of the AMI decoder (everything else is in pyproject.toml).

``ctiserver/pbx/ami/_fastpath.pyx`` is compiled with Cython when a C compiler is present; without one the
install still succeeds (``optional=True``) and the decoder uses the pure-Python twin, same results, slower.
"""

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # building without Cython: pure Python only
    extensions = []
else:
    extensions = cythonize(
        [Extension("ctiserver.pbx.ami._fastpath", ["ctiserver/pbx/ami/_fastpath.pyx"], optional=True)],
        compiler_directives={"language_level": "3"},
        quiet=True,
    )

setup(ext_modules=extensions)
