"""The app-version gate: before anything is parsed or run, an app older than its platform's minimum gets
APP_UPDATE_REQUIRED (with the minimum, the store link and the platform) and nothing else, on every transport.

Policy for a request without the client-awareness headers (an unknown app: curl, GraphiQL, a standard client
not configured to send them, or an app released before they existed): served, and not counted against any
version, unless `SUPERAPP_APP_REFUSE_UNKNOWN` is on; then it is refused like an old app, sent to
`SUPERAPP_APP_DOWNLOAD_URL`. Turn that on only once every supported version sends the headers.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.client_app import ClientApp
from core.app_versions import Minimum, MinimumVersions, supported
from core.errors import ErrorCode, render
from core.settings import AppSettings

UPDATE_REQUIRED_CLOSE = 4426  # WebSocket close code (after HTTP's 426 Upgrade Required), reason APP_UPDATE_REQUIRED
UNKNOWN_PLATFORM = "unknown"


@dataclass(frozen=True)
class UpdateRequired:
    """Why an app is refused: what the error's `extensions` carry."""

    platform: str
    minimum_version: str | None
    store_url: str

    @property
    def extensions(self) -> dict[str, object]:
        return {"platform": self.platform, "minimumVersion": self.minimum_version, "storeUrl": self.store_url}

    def messages(self) -> tuple[str, str]:
        if self.minimum_version is None:
            params = {"requirement": "phiên bản mới nhất", "requirement_en": "the latest version"}
        else:
            params = {"requirement": f"phiên bản {self.minimum_version} trở lên",
                      "requirement_en": f"version {self.minimum_version} or later"}
        return render(ErrorCode.APP_UPDATE_REQUIRED, params)


class AppGate:
    def __init__(self, minimums: MinimumVersions, settings: AppSettings) -> None:
        self.minimums, self.settings = minimums, settings

    async def refusal(self, app: ClientApp | None) -> UpdateRequired | None:
        """None when the app is served."""
        if app is None:
            if not self.settings.refuse_unknown:
                return None
            return UpdateRequired(UNKNOWN_PLATFORM, None, self.settings.download_url)
        minimum: Minimum | None = await self.minimums.for_platform(app.platform)
        if supported(app.version, minimum):
            return None
        assert minimum is not None
        return UpdateRequired(app.platform, minimum.text, minimum.store_url)
