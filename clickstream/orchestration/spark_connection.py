"""The Airflow Spark connection of the DAGs: checked before the first spark-submit, and a hook
whose spark-submit child gets an allow-listed environment, not a copy of the worker's.

Input: the connection id, the master it resolves to, whether it is defined, this process's
environment. Output: ``connection_problem`` (None, or the one line that says what to fix) and
``AllowListSparkSubmitHook``. Importing it is cheap: the provider's hook only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

LOCAL_CONNECTION = json.dumps({"conn_type": "spark", "host": "local[*]"})


def connection_variable(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def connection_fix(conn_id: str) -> str:
    return (
        f"set {connection_variable(conn_id)}='{LOCAL_CONNECTION}' "
        "(or a cluster URL such as spark://host:7077 as the host)"
    )


def kubernetes_configured(environ: Mapping[str, str], home: Path | None = None) -> bool:
    """A kube config (``KUBECONFIG`` or ``~/.kube/config``), or running inside a cluster."""
    home = home or Path(environ.get("HOME") or Path.home())
    return bool(
        environ.get("KUBECONFIG")
        or environ.get("KUBERNETES_SERVICE_HOST")
        or (home / ".kube" / "config").is_file()
    )


def connection_problem(
    conn_id: str, master: str, defined: bool, environ: Mapping[str, str]
) -> str | None:
    """None when a spark-submit through ``conn_id`` (resolving to ``master``) can start here;
    otherwise one line naming the connection, its master and the fix."""
    name = f"Spark connection {conn_id!r}"
    if not defined:
        return f"{name} is not defined, so spark-submit would use master {master!r}: " + (
            connection_fix(conn_id)
        )
    if "yarn" in master and not (environ.get("HADOOP_CONF_DIR") or environ.get("YARN_CONF_DIR")):
        return (
            f"{name} has master {master!r} but neither HADOOP_CONF_DIR nor YARN_CONF_DIR is set "
            f"on this worker: set one, or {connection_fix(conn_id)}"
        )
    if master.startswith("k8s://") and not kubernetes_configured(environ):
        return (
            f"{name} has master {master!r} but this worker has no Kubernetes config (KUBECONFIG, "
            f"~/.kube/config or in-cluster): add one, or {connection_fix(conn_id)}"
        )
    return None


class AllowListSparkSubmitHook(SparkSubmitHook):
    """``SparkSubmitHook`` whose spark-submit process gets ``launcher_env`` plus ``env_vars`` as
    its whole environment. The provider's own hook starts the child with a copy of the worker's
    environment (secrets included) with ``env_vars`` on top; this one does not."""

    launcher_env: dict[str, str]  # set by ``adopt``

    @classmethod
    def adopt(cls, hook: SparkSubmitHook, launcher_env: dict[str, str]) -> AllowListSparkSubmitHook:
        """``hook``, already configured by the operator, with this class's child environment."""
        hook.__class__ = cls  # same state, one behaviour changed: no re-resolving the connection
        hook.launcher_env = dict(launcher_env)
        return hook

    def _build_spark_common_args(self) -> list[str]:
        args = super()._build_spark_common_args()
        # The provider merges ``_env`` into a copy of os.environ at Popen; ``submit`` below hands
        # the child its environment instead. (YARN's kill command keeps using os.environ.)
        self._env = None
        return args

    def submit(self, application: str = "", **kwargs: Any) -> str | None:
        kwargs["env"] = self.launcher_env | {k: str(v) for k, v in (self._env_vars or {}).items()}
        return super().submit(application, **kwargs)
