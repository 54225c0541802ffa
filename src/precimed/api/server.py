"""The ASGI entry for uvicorn workers: settings come from the environment, which
``precimed serve`` fills from its own options before it starts the workers."""

from __future__ import annotations

from fastapi import FastAPI

from precimed.settings import load_settings


def app() -> FastAPI:
    from precimed.api.app import create_app

    return create_app(load_settings())
