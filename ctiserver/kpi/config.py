"""``kpi:`` configuration section (service-level policy per queue, FCR window, reporting day offset)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ctiserver.kpi.formulas import SlPolicy


class QueueSlConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sl_seconds: float | None = Field(None, gt=0)
    short_abandon_seconds: float | None = Field(None, ge=0)
    exclude_short_abandons: bool | None = None


class KpiConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sl_seconds: float = Field(20.0, gt=0)
    short_abandon_seconds: float = Field(5.0, ge=0)
    exclude_short_abandons: bool = False
    fcr_window_hours: float = Field(24.0, gt=0)
    fcr_resolved_dispositions: tuple[str, ...] = ("resolved",)
    utc_offset_minutes: int = Field(0, ge=-24 * 60, le=24 * 60)
    queues: dict[str, QueueSlConfig] = {}

    def policy(self, queue: str) -> SlPolicy:
        q = self.queues.get(queue)
        return SlPolicy(
            seconds=q.sl_seconds if q and q.sl_seconds is not None else self.sl_seconds,
            short_abandon_seconds=(
                q.short_abandon_seconds
                if q and q.short_abandon_seconds is not None
                else self.short_abandon_seconds
            ),
            exclude_short_abandons=(
                q.exclude_short_abandons
                if q and q.exclude_short_abandons is not None
                else self.exclude_short_abandons
            ),
        )
