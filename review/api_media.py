"""Serving tip photos to analysts: only images that some stored tip names."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Response
from fastapi.responses import FileResponse
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.photos import MediaStore
from review import api_store
from review.api_auth import Analyst
from review.api_context import ReviewContext, page_analyst
from review.api_steps import valid
from schemas.tip import Sha256

_SHA256: Final = TypeAdapter(Sha256)


class MediaFiles:
    """``/media/{sha256}``; ``create_app`` wires it to its route."""

    def __init__(self, review: ReviewContext) -> None:
        self.review = review
        settings = review.settings
        self.media_store = MediaStore(settings.web_media_dir or settings.data_dir / "media")

    async def media(
        self, sha256: str, analyst: Annotated[Analyst, Depends(page_analyst)]
    ) -> Response:
        valid(_SHA256, sha256, "no such image")
        async with self.review.connection() as conn:
            media_type = await api_store.media_type_of(conn, sha256)
        # Only images some stored tip names: the media directory may hold others (rejected
        # tips, tests, a shared volume), and the database is what analysts are cleared to see.
        path = self.media_store.path_for(sha256)
        if media_type is None or not path.is_file():
            raise StarletteHTTPException(404, "no such image")
        return FileResponse(
            path,
            media_type=media_type,
            headers={"content-disposition": f'inline; filename="{sha256[:12]}"'},
        )
