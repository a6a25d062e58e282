"""seed.fleet.image_reference, image_registry and image_repo_digest."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.seed.fleet.plugins.filter.image_reference import image_reference
from ansible_collections.seed.fleet.plugins.filter.image_registry import image_registry
from ansible_collections.seed.fleet.plugins.filter.image_repo_digest import image_repo_digest

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize("repo, version, digest, ref", [
    ("seed-fleet/demo-app", "v1", "", "seed-fleet/demo-app:v1"),
    ("registry.example.com:5000/shop/web", "2.1.0", "", "registry.example.com:5000/shop/web:2.1.0"),
    ("registry.example.com:5000/shop/web", "2.1.0", D1, "registry.example.com:5000/shop/web@" + D1),
    ("localhost/app", "r1", D2, "localhost/app@" + D2),
    ("registry.test:5000/demo-app", "r1", None, "registry.test:5000/demo-app:r1"),
])
def test_reference_by_tag_or_digest(repo, version, digest, ref):
    assert image_reference(repo, version, digest) == ref


@pytest.mark.parametrize("repo, version, digest, message", [
    ("seed-fleet/demo-app:v1", "v1", "", "without a tag or digest"),
    ("seed-fleet/demo-app@" + D1, "v1", "", "without a tag or digest"),
    ("Seed/App", "v1", "", "is not an image repository"),
    ("", "v1", "", "non-empty string"),
    (None, "v1", "", "non-empty string"),
    ("app", "", "", "is not an image tag"),
    ("app", "-v1", "", "is not an image tag"),
    ("app", "v1", "sha256:abc", "64 lowercase hex digits"),
    ("app", "v1", "sha256:" + "A" * 64, "64 lowercase hex digits"),
    ("app", "v1", "md5:" + "a" * 64, "64 lowercase hex digits"),
])
def test_bad_input_is_named(repo, version, digest, message):
    with pytest.raises(AnsibleFilterError, match="image_reference: .*" + message):
        image_reference(repo, version, digest)


@pytest.mark.parametrize("repo, host", [
    ("seed-fleet/demo-app", "docker.io"),
    ("nginx", "docker.io"),
    ("registry.example.com/shop", "registry.example.com"),
    ("registry.test:5000/demo-app", "registry.test:5000"),
    ("localhost/app", "localhost"),
    ("10.0.0.5:5000/a/b/c", "10.0.0.5:5000"),
])
def test_registry(repo, host):
    assert image_registry(repo) == host


def test_registry_refuses_a_tagged_image():
    with pytest.raises(AnsibleFilterError, match="image_registry: "):
        image_registry("registry.example.com:5000/shop:v1")


@pytest.mark.parametrize("digests, repo, digest", [
    (["registry.test:5000/demo-app@" + D1], "registry.test:5000/demo-app", D1),
    (["other:5000/demo-app@" + D2, "registry.test:5000/demo-app@" + D1], "registry.test:5000/demo-app", D1),
    (["nginx@" + D1], "docker.io/library/nginx", D1),
    (["docker.io/library/nginx@" + D1], "nginx", D1),
    (["me/app@" + D2], "docker.io/me/app", D2),
])
def test_repo_digest(digests, repo, digest):
    assert image_repo_digest(digests, repo) == digest


@pytest.mark.parametrize("digests, message", [
    ([], "has no digest from r:5000/app .*none.*loaded from an archive"),
    (["r:5000/other@" + D1], "has no digest from r:5000/app"),
    (["r:5000/app@sha256:short"], "has no digest"),
    ("r:5000/app@" + D1, "expected the list RepoDigests"),
    (None, "expected the list RepoDigests"),
])
def test_repo_digest_names_what_is_missing(digests, message):
    with pytest.raises(AnsibleFilterError, match="image_repo_digest: (the image )?" + message):
        image_repo_digest(digests, "r:5000/app")


def test_repo_digest_missing_gives_the_default():
    assert image_repo_digest([], "r:5000/app", "") == ""
    assert image_repo_digest(["r:5000/other@" + D1], "r:5000/app", "none") == "none"
    assert image_repo_digest(["r:5000/app@" + D1], "r:5000/app", "") == D1
