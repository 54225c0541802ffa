"""The ASGI entry for uvicorn workers: settings come from the environment, which
``precimed serve`` fills from its own options before it starts the workers.

A worker asks Linux to send it SIGTERM when its parent (the supervisor) dies, so a
supervisor killed outright (SIGKILL, out of memory) leaves no worker serving on the
port."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys

from fastapi import FastAPI

from precimed.settings import load_settings


def _stop_with_parent() -> None:
    """PR_SET_PDEATHSIG = SIGTERM for a worker process (Linux only); nothing for a server
    that runs in the main process (one worker), whose parent is a shell or a service
    manager."""
    parent = multiprocessing.parent_process()
    if parent is None or not sys.platform.startswith("linux"):
        return
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # 1 is PR_SET_PDEATHSIG
    if os.getppid() != parent.pid:  # the parent died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def app() -> FastAPI:
    from precimed.api.app import create_app

    _stop_with_parent()
    return create_app(load_settings())
