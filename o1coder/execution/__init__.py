"""The execution sandbox: run untrusted, model-written code against tests and return an honest verdict.

    from o1coder.execution import Sandbox, Limits, ExecResult
    with Sandbox(limits=Limits(cpu_seconds=2), workers=2) as sb:
        result = sb.run(code, tests, setup="")

See the README ("The sandbox") for the guarantees and the limits of what it protects against.
"""

from o1coder.execution.limits import Limits
from o1coder.execution.result import STATUSES, ExecResult, TestOutcome
from o1coder.execution.sandbox import Sandbox, SandboxError

__all__ = ["Sandbox", "SandboxError", "Limits", "ExecResult", "TestOutcome", "STATUSES"]
