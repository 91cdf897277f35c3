"""Moderation without storage: one post, or a batch of posts, to verdicts with evidence.

The verdict is exactly what ``qinglang scan`` writes for the same post. A batch
answers one result per post in order, a verdict or an error record naming the post
(its id and its 1-based position as ``record``), so one bad post never fails the
batch. Posts are validated by ``qinglang.io.records`` (codes QL-1xxx, as the CLI).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from qinglang import errors
from qinglang.model import ErrorRecord
from qinglang.service.auth import require
from qinglang.service.body import read_json
from qinglang.service.handlers import ServiceError
from qinglang.service.keys import Principal
from qinglang.service.routers.common import ERRORS, JSONBytes, body_doc, count, json_response, record_error, state
from qinglang.service.schemas import BatchIn, BatchOut, PostIn, VerdictOut

router = APIRouter(prefix="/v1/moderate", tags=["moderate"])


def batch_posts(body: object, max_batch: int) -> list:
    """The ``posts`` list of a batch body (422 when it has none, 413 over ``max_batch``)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("posts"), list):
        raise ServiceError(errors.HTTP_VALIDATION, "the body must be a JSON object with a 'posts' list")
    posts = body["posts"]
    if len(posts) > max_batch:
        raise ServiceError(errors.HTTP_BATCH_TOO_LARGE, f"{len(posts)} posts in one batch; at most {max_batch}",
                           hint="split the batch")
    return posts


@router.post("", response_class=JSONBytes, responses={200: {"model": VerdictOut}, **ERRORS},
             openapi_extra=body_doc(PostIn, "One post"))
async def moderate_one(request: Request, caller: Principal = Depends(require("moderate"))) -> Response:  # noqa: B008
    """Detect one post and answer its verdict (nothing is stored)."""
    body = await read_json(request)
    if not isinstance(body, Mapping):
        raise ServiceError(errors.HTTP_VALIDATION, "the body must be a JSON object (one post)")
    outs = await state(request).detection.moderate([(1, body)])
    count(request, outs)
    out = outs[0]
    if isinstance(out, ErrorRecord):
        raise record_error(out)
    return json_response(out.to_dict())


@router.post("/batch", response_class=JSONBytes, responses={200: {"model": BatchOut}, **ERRORS},
             openapi_extra=body_doc(BatchIn, "Up to max_batch posts (default 1000)"))
async def moderate_batch(request: Request, caller: Principal = Depends(require("moderate"))) -> Response:  # noqa: B008
    """Detect a batch; one result per post, in order: a verdict or an error record naming the post."""
    service = state(request)
    posts = batch_posts(await read_json(request), service.settings.max_batch)
    outs = await service.detection.moderate(list(enumerate(posts, start=1)))
    count(request, outs)
    n_errors = sum(1 for out in outs if isinstance(out, ErrorRecord))
    return json_response({"results": [out.to_dict() for out in outs], "verdicts": len(outs) - n_errors,
                          "errors": n_errors})
