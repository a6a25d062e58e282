# -*- coding: utf-8 -*-
# Copyright (c) seed.fleet contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image references: by tag or by digest, the registry of a repository, the digest a pull resolved.

Used by the filters image_reference, image_registry and image_repo_digest; errors are ValueError
with a message that names the value (the filters turn them into AnsibleFilterError).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# A repository: an optional host[:port]/ then lowercase path components (Docker's grammar, simplified).
_COMPONENT = r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*"
REPOSITORY = re.compile(r"^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?%s(?:/%s)*$" % (_COMPONENT, _COMPONENT))


def split_host(repository):
    """(host or None, path): the first part is a registry host when it has a dot or a port, or is localhost."""
    first, sep, rest = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return None, repository


def check_repository(repository):
    if not isinstance(repository, str) or not repository:
        raise ValueError("the image must be a non-empty string, got %r" % (repository,))
    if "@" in repository or ":" in split_host(repository)[1]:
        raise ValueError("give the image %r without a tag or digest (the version and the digest are separate)" % (repository,))
    if not REPOSITORY.match(repository):
        raise ValueError("%r is not an image repository (lowercase name, optional registry host[:port]/)" % (repository,))


def reference(repository, version, digest=""):
    """repository@digest when a digest is given, else repository:version."""
    check_repository(repository)
    version = "" if version is None else str(version)
    if not TAG.match(version):
        raise ValueError("%r is not an image tag (letters, digits, _ . -; at most 128 characters)" % (version,))
    if digest:
        if not isinstance(digest, str) or not DIGEST.match(digest):
            raise ValueError("the digest must be sha256: and 64 lowercase hex digits, got %r" % (digest,))
        return "%s@%s" % (repository, digest)
    return "%s:%s" % (repository, version)


def registry(repository):
    """The registry host of a repository (docker.io when its name has none)."""
    check_repository(repository)
    return split_host(repository)[0] or "docker.io"


def _canonical(repository):
    host, path = split_host(repository)
    host = host or "docker.io"
    if host == "docker.io" and "/" not in path:
        path = "library/" + path
    return host, path


def repo_digest(repo_digests, repository, missing=None):
    """The digest of ``repository`` among an image's RepoDigests (entries repository@sha256:...);
    ``missing`` when it has none and ``missing`` is not None (an image loaded or built locally)."""
    check_repository(repository)
    if isinstance(repo_digests, str) or not isinstance(repo_digests, (list, tuple)):
        raise ValueError("expected the list RepoDigests of an image, got %r" % (repo_digests,))
    wanted = _canonical(repository)
    for entry in repo_digests:
        repo, sep, digest = str(entry).partition("@")
        if sep and DIGEST.match(digest) and _canonical(repo) == wanted:
            return digest
    if missing is not None:
        return missing
    raise ValueError("the image has no digest from %s (RepoDigests: %s); an image loaded from an archive or built "
                     "here, not pulled, has none" % (repository, ", ".join(str(e) for e in repo_digests) or "none"))
