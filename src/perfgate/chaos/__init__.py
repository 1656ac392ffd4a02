"""The chaos probe: faults on the AI egress at a planned moment, always reverted.

Kinds (``perfgate.chaos.spec``): ``iptables`` (real packet loss in a network
namespace; root), ``toxiproxy`` (its HTTP API), ``proxy`` (perfgate's userspace lossy
TCP proxy), ``command`` (inject/revert argv), ``http`` (inject/revert requests, e.g. a
quota drill). The running hook is ``perfgate.chaos.hook.ChaosHook`` (not imported here:
``perfgate.plan.models`` imports this package's ``spec`` and the hook imports the plan).
"""

from perfgate.chaos.spec import ChaosSpec, FaultSpec, host_port

__all__ = ["ChaosSpec", "FaultSpec", "host_port"]
