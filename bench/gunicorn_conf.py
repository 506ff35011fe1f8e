"""gunicorn settings for the benchmark, the same for the product and the hello-world.

Given with --config, so the project's gunicorn.conf.py (production: more workers, threads,
worker recycling, migrations at start) is not read from the working folder: the ratios compare
the apps, never two server setups. A request still running after `timeout` seconds has its
worker killed and replaced; the load generator gives up on it at the same time.
"""
workers = 2
worker_class = "sync"
timeout = 60
loglevel = "warning"
accesslog = None
control_socket_disable = True  # two masters (and the developer's own) would share one path
