"""The storefront's presentation tier: the insurance shop's server-rendered web UI.

Served by uvicorn in each presentation-tier instance:
``uvicorn --factory archlab.systems.storefront.web:create_web_app``.
"""

from archlab.systems.storefront.web.app import create_web_app

__all__ = ["create_web_app"]
