"""Sandbox ports are configuration: `superapp sandbox` and the server read the same settings and agree."""

from __future__ import annotations

import pytest

from core.settings import Environment, Settings
from services.registry import load_registry
from services.sandbox_runner import sandboxes

# The built-in services' sandboxes and the example plug-in's (an installed third-party package).
DEFAULT_PORTS = {"civil_status": 8101, "residence": 8102, "social_insurance": 8103, "traffic_fines": 8104,
                 "public_library": 8105}


async def _server_and_sandbox_ports(settings: Settings) -> tuple[dict[str, int], dict[str, int]]:
    registry = load_registry(settings)
    try:
        server = {}
        for code in DEFAULT_PORTS:
            plugin = registry.get(code)
            url = plugin.settings.base_url if plugin is not None and plugin.settings is not None else None
            assert url is not None
            server[code] = int(url.rsplit(":", 1)[1])
    finally:
        await registry.aclose()
    return server, {sandbox.code: port for sandbox, port in sandboxes(settings)}


async def test_the_sandboxes_default_to_8101_to_8105(tmp_path):
    server, running = await _server_and_sandbox_ports(Settings(env=Environment.TEST, data_dir=tmp_path))
    assert server == running == DEFAULT_PORTS


async def test_the_port_offset_moves_every_sandbox_and_the_server_follows(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SUPERAPP_SANDBOX_PORT_OFFSET", "1000")
    server, running = await _server_and_sandbox_ports(Settings(env=Environment.TEST, data_dir=tmp_path))
    assert server == running == {code: port + 1000 for code, port in DEFAULT_PORTS.items()}


async def test_one_agency_base_url_moves_its_sandbox_alone(tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SUPERAPP_SANDBOX_PORT_OFFSET", "1000")
    monkeypatch.setenv("SUPERAPP_AGENCY_RESIDENCE_BASE_URL", "http://127.0.0.1:18102")
    server, running = await _server_and_sandbox_ports(Settings(env=Environment.TEST, data_dir=tmp_path))
    assert server == running == {**{code: port + 1000 for code, port in DEFAULT_PORTS.items()}, "residence": 18102}


def test_an_offset_that_leaves_the_port_range_is_refused(tmp_path):
    with pytest.raises(ValueError, match="sandbox_port_offset"):
        Settings(env=Environment.TEST, data_dir=tmp_path, agencies={"sandbox_port_offset": 60000})
