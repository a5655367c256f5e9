"""titan_sdk: the Python SDK of Titan for TypeScript (v2 protocol, standard library only).

    from titan_sdk import TitanClient, TitanJob

    client = TitanClient()                      # TITAN_HOST, TITAN_PORT, TITAN_TOKEN
    prep = TitanJob("prep", "prep.py")
    train = TitanJob("train", "train.py", args="--epochs 3", parents=["prep"])
    result = client.submit_dag("train", [prep, train])
    client.wait_for_run(result.run_id)

See docs/sdk-python.md.
"""

from .client import LogStream, SubmitResult, TitanClient, titan_status
from . import errors
from .errors import *  # noqa: F401,F403 (the error classes, named once in errors.__all__)
from .steps import Step, StepFailedError, step
from .jobs import DEFAULT_CAPABILITY, DEFAULT_GATE_WAIT_SECONDS, DEFAULT_PRIORITY, DEFAULT_RETRIES, TitanJob, gate_id_for, split_args, strip_dag_prefix

__version__ = "0.1.0"

__all__ = [
    "TitanClient",
    "TitanJob",
    "step",
    "Step",
    "StepFailedError",
    "SubmitResult",
    "LogStream",
    "DEFAULT_CAPABILITY",
    "DEFAULT_GATE_WAIT_SECONDS",
    "DEFAULT_PRIORITY",
    "DEFAULT_RETRIES",
    "gate_id_for",
    "split_args",
    "strip_dag_prefix",
    "titan_status",
    "__version__",
]
__all__ += errors.__all__
