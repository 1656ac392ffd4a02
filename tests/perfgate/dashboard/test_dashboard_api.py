"""The dashboard's public names (re-exported in ``perfgate.dashboard``)."""

import perfgate.dashboard as dashboard


def test_public_names() -> None:
    assert dashboard.__all__ == [
        "DEFAULT_BIND", "Bind", "BindError", "Cursor", "Dashboard", "DashboardOptions", "Hub",
        "end_payload", "is_loopback", "parse_bind", "read_tail",
    ]
    for name in dashboard.__all__:
        assert getattr(dashboard, name) is not None
