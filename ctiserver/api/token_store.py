"""The SQL token store (``api_tokens``)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ctiserver.api.auth import Role, TokenRecord
from ctiserver.api.tables import TokenRow


def _record(row: TokenRow) -> TokenRecord:
    return TokenRecord(
        row.id, row.secret_hash, Role(row.role), row.agent, row.name, row.created_at, row.revoked
    )


class SqlTokenStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def add(self, record: TokenRecord) -> None:
        async with self.sessions.begin() as session:
            session.add(
                TokenRow(
                    id=record.id,
                    secret_hash=record.secret_hash,
                    role=record.role.value,
                    agent=record.agent,
                    name=record.name,
                    created_at=record.created_at,
                    revoked=record.revoked,
                )
            )

    async def get(self, token_id: str) -> TokenRecord | None:
        async with self.sessions() as session:
            row = await session.get(TokenRow, token_id)
            return _record(row) if row is not None else None

    async def revoke(self, token_id: str) -> bool:
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(TokenRow).where(TokenRow.id == token_id).values(revoked=True)
            )
            return bool(getattr(result, "rowcount", 0))

    async def list(self) -> list[TokenRecord]:
        async with self.sessions() as session:
            return [_record(r) for r in await session.scalars(select(TokenRow).order_by(TokenRow.created_at))]
