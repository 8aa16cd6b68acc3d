"""Spectro Cloud Palette packs from Python: lint, package and publish.

A thin binding over the Rust library ``spectro-packs``; every behaviour lives there.
"""

from __future__ import annotations


class SpectroError(Exception):
    """Base class of every error raised by spectro_packs.

    Attributes, set when the library knows them (else ``None``):

    - ``kind``: what kind of failure, one of ``not_found``, ``already_exists``,
      ``unauthenticated``, ``permission_denied``, ``unsupported``, ``invalid_input``,
      ``integrity``, ``too_large``, ``protocol``, ``transport``, ``conflict``,
      ``cancelled``, ``io``;
    - ``reference``: the pack reference concerned (``"nginx:1.0.0"``);
    - ``path``: the local file or folder concerned;
    - ``status``: the HTTP status the registry answered with.
    """

    kind: str | None = None
    reference: str | None = None
    path: str | None = None
    status: int | None = None


class PackError(SpectroError):
    """A pack (directory or pack.json) could not be loaded."""


class ProfileError(SpectroError):
    """A cluster profile could not be loaded."""


class ArchiveError(SpectroError):
    """A pack archive could not be built or extracted (including hostile archives)."""


class RegistryError(SpectroError):
    """A registry operation failed."""


class AuthenticationError(RegistryError):
    """The registry refused the credentials, or needs some."""


class NotFoundError(RegistryError):
    """The pack, version or digest is not in the registry."""


from ._native import (  # noqa: E402  (the exceptions must exist before the native module loads)
    Diagnostic,
    Pack,
    Report,
    Registry,
    build_archive,
    load_pack,
    rules,
    validate,
    validate_profile,
    __version__,
)

__all__ = [
    "SpectroError",
    "PackError",
    "ProfileError",
    "ArchiveError",
    "RegistryError",
    "AuthenticationError",
    "NotFoundError",
    "Diagnostic",
    "Pack",
    "Report",
    "Registry",
    "build_archive",
    "load_pack",
    "rules",
    "validate",
    "validate_profile",
    "__version__",
]
