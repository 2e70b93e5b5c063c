"""IVR scripts: YAML → validated, versioned ``Script`` → interpreted over ``CallControl``.

``source`` (YAML with positions) → ``script`` (schema pass, ``nodes``/``nodes_out`` kinds, ``schedule``) →
``checks`` (semantic) → ``validate`` (files, cross-script); ``registry`` (versions, hot reload), ``runner`` +
``run_*`` handlers (the interpreter), ``session`` (what is recorded), ``recorder`` (tracker/bus),
``service``/``component`` (the ``did`` handler of the Stasis router), ``simulate``/``graph`` (CLI).
Reference: docs/ivr.md.
"""
