"""Ray for the package's long jobs: joining it quietly, and running a batch of tasks on it.

`run_all` is the one loop that submits tasks, hands each result back as it finishes (a
failed task raises there, with its worker's traceback) and polls for progress meanwhile;
`dexterous plan` runs its episodes and `dexterous reproduce` its figure's runs through it.

Joining: an embedded single-machine instance, or an existing cluster by address.

Ray 2.60 enables token authentication by default: `ray.init()` that starts a cluster writes
~/.ray/auth_token, and `ray start --head` then turns token auth on whenever that file
exists. A driver given an explicit address, though, sends no token unless RAY_AUTH_MODE is
set, and Ray reports the refusal as a bare "Failed to connect to Ray cluster". Without an
address, `ray.init()` joins a running `ray start` cluster it finds (RAY_ADDRESS or
/tmp/ray/ray_current_cluster) and then refuses the num_cpus we ask for. Both are handled here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any
from unittest import mock

AUTH_MODE_VARIABLE = "RAY_AUTH_MODE"


def connect_ray(address: str | None) -> None:
    """Start an embedded Ray on every core, bound to loopback (address None), or join the
    cluster at address; once per process, printing none of Ray's banners or warnings."""
    import ray

    if ray.is_initialized():
        return
    if address is None:
        with _loopback_only():  # "local": a fresh instance even when a cluster runs on this machine
            ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR)
        return
    _send_token_if_found()
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    except ConnectionError as err:
        raise _named(err, address) from err


def run_all(function: Callable[..., Any], arguments: Sequence[tuple], num_cpus: int,
            finished: Callable[[Any], None], poll: Callable[[], None] = lambda: None) -> None:
    """Run function(*args) for every args in arguments as Ray tasks of num_cpus CPUs each
    (call `connect_ray` first); finished gets each result as its task ends, and poll is
    called every 0.2 s meanwhile and once at the end (e.g. to drain a progress queue)."""
    import ray

    task = ray.remote(num_cpus=num_cpus)(function)
    remaining = [task.remote(*args) for args in arguments]
    while remaining:
        done, remaining = ray.wait(remaining, timeout=0.2)
        for result in ray.get(done):  # a failed task raises here, with the worker's traceback
            finished(result)
        poll()
    poll()


def _loopback_only() -> AbstractContextManager:
    """Ray 2.60 replaces a loopback node address by the machine's network address (and its
    servers then listen on every interface) unless it believes clusters are unsupported, as on
    macOS; an embedded instance is one machine's, so while it starts Ray is told exactly that."""
    from ray._private import ray_constants

    return mock.patch.object(ray_constants, "ENABLE_RAY_CLUSTER", False)


def _send_token_if_found() -> None:
    """Turn token auth on for this driver when a token is at hand (RAY_AUTH_TOKEN,
    RAY_AUTH_TOKEN_PATH or ~/.ray/auth_token) and RAY_AUTH_MODE is unset: the rule `ray start`
    applies to the cluster, which Ray's driver applies only to clusters it finds by itself.
    A cluster without auth ignores the token, so sending it never hurts."""
    from ray._raylet import AuthenticationTokenLoader, Config

    if AUTH_MODE_VARIABLE in os.environ or not AuthenticationTokenLoader.instance().has_token(ignore_auth_mode=True):
        return
    os.environ[AUTH_MODE_VARIABLE] = "token"
    Config.initialize("")  # Ray caches its config: reread it, so this process sees the new mode


def _named(err: ConnectionError, address: str) -> ConnectionError:
    """Ray's connection error, with the cause it hides (a refused token) and its fix spelt out."""
    if not _token_refused(err):
        return ConnectionError(f"{err}: is a Ray cluster running there (`ray start --head`)? "
                               f"Check --address {address}")
    return ConnectionError(
        f"the Ray cluster at {address} requires an authentication token, and this machine's is missing or "
        "another: copy the head node's token (`ray get-auth-token` there) to ~/.ray/auth_token here, or "
        "set RAY_AUTH_TOKEN to it")


def _token_refused(err: BaseException | None) -> bool:
    """Whether the cluster refused this driver somewhere down err's causes: as an AuthenticationError
    when auth is off here, or in the GCS client's error text when the token is missing or wrong."""
    from ray.exceptions import AuthenticationError

    while err is not None:
        if isinstance(err, AuthenticationError) or "InvalidAuthToken" in str(err):
            return True
        err = err.__cause__
    return False
