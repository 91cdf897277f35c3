"""Gang clusters: accounts linked by shared identifiers, grouped, explained and handled as one.

The pure core works on arrays (:mod:`~qinglang.cluster.graph`,
:mod:`~qinglang.cluster.clusters`, :mod:`~qinglang.cluster.stable_ids`,
:mod:`~qinglang.cluster.explain`, :mod:`~qinglang.cluster.roles`,
:mod:`~qinglang.cluster.risk`); :mod:`~qinglang.cluster.store` connects it to the
database and :mod:`~qinglang.cluster.export` writes dossiers and blocklists. See
docs/clusters.md.

The package imports nothing on its own: ``qinglang.store.tables`` imports
:mod:`qinglang.cluster.tables`, and every store user should not pay for numpy, scipy
and igraph.
"""
