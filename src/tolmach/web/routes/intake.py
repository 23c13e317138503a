"""Routes of the desk: bringing material in (a file upload or a URL) and following its jobs.

Pages: ``/intake`` (editor), ``/jobs`` and ``/jobs/{id}`` (viewer; the job page polls
``/jobs/{id}/status`` with htmx every second until the job ends). API: ``POST /api/items``
(a multipart upload) and ``POST /api/items/url`` (editor) answer with the job; ``/api/jobs``
and ``/api/jobs/{id}`` (viewer) report on jobs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from tolmach.errors import NotFoundError
from tolmach.store.desk import Job
from tolmach.web.deps import DB, Viewer, get_desk, render, require
from tolmach.web.incoming import LimitedRoute, check_url, receive_upload
from tolmach.web.jobview import FINISHED, item_kind, job_json, source_of, stage_rows

router = APIRouter()
uploading = APIRouter(route_class=LimitedRoute)  # bodies over the upload limit are refused
Editor = Annotated[Viewer, Depends(require("editor"))]
Reader = Annotated[Viewer, Depends(require("viewer"))]
RECENT = 100


class UrlIn(BaseModel):
    url: str


def _job(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError(f"There is no job {job_id}.", "See the list of jobs at /jobs.")
    return job


async def _upload_job(request: Request, who: Viewer) -> Job:
    desk = get_desk(request)
    # A plain form's CSRF token is a field of the body, which the check has parsed already.
    form_read = who.via == "cookie" and not request.headers.get("x-csrf-token")
    upload = await receive_upload(request, desk.settings, form_read)
    payload = {"upload": upload.path.name, "name": upload.name, "size": upload.size, "by": who.name}
    try:
        with desk.ws.db.begin() as session:
            job: Job = desk.jobs.submit(session, "ingest_file", payload=payload, by=who.name)
    except BaseException:  # no job will ever take the file
        upload.path.unlink(missing_ok=True)
        raise
    return job


def _url_job(request: Request, session: Session, url: str, who: Viewer) -> Job:
    job: Job = get_desk(request).jobs.submit(
        session, "ingest_url", payload={"url": check_url(url), "by": who.name}, by=who.name
    )
    return job


def _as_json(request: Request, session: Session | None, job: Job) -> dict[str, Any]:
    kind = item_kind(session, job) if session is not None else "video"
    return job_json(job, kind, get_desk(request).settings)


def _job_context(request: Request, session: Session, job: Job) -> dict[str, Any]:
    return {
        "job": job,
        "source": source_of(job),
        "stages": stage_rows(job, item_kind(session, job), get_desk(request).settings),
        "finished": job.status in FINISHED,
    }


@router.get("/intake", include_in_schema=False)
def intake_page(request: Request, who: Editor) -> Response:
    limit = get_desk(request).settings.web_max_upload_bytes
    return render(request, "intake/intake.html", {"limit_mib": limit / 1024**2})


@uploading.post("/intake/upload", include_in_schema=False)
async def intake_upload(request: Request, who: Editor) -> Response:
    job = await _upload_job(request, who)
    if "application/json" in request.headers.get("accept", ""):  # intake.js sends the form
        return JSONResponse(_as_json(request, None, job), status_code=202)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.post("/intake/url", include_in_schema=False)
def intake_url(
    request: Request, who: Editor, session: DB, url: Annotated[str, Form()] = ""
) -> Response:
    job = _url_job(request, session, url, who)
    return RedirectResponse(f"/jobs/{job.id}", status_code=303)


@router.get("/jobs", include_in_schema=False)
def jobs_page(request: Request, who: Reader, session: DB) -> Response:
    jobs = session.scalars(select(Job).order_by(Job.id.desc()).limit(RECENT)).all()
    rows = [{"job": job, "source": source_of(job)} for job in jobs]
    return render(request, "intake/jobs.html", {"rows": rows})


@router.get("/jobs/{job_id}", include_in_schema=False)
def job_page(request: Request, who: Reader, session: DB, job_id: int) -> Response:
    context = _job_context(request, session, _job(session, job_id))
    return render(request, "intake/job.html", context)


@router.get("/jobs/{job_id}/status", include_in_schema=False)
def job_status(request: Request, who: Reader, session: DB, job_id: int) -> Response:
    return render(
        request, "intake/_status.html", _job_context(request, session, _job(session, job_id))
    )


UPLOAD_BODY = {  # the body is parsed as it streams in, so FastAPI does not declare it itself
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


@uploading.post("/api/items", status_code=202, openapi_extra=UPLOAD_BODY)
async def api_upload(request: Request, who: Editor) -> JSONResponse:
    """Upload a video or audio file (multipart, field ``file``); answers with its job."""
    job = await _upload_job(request, who)
    return JSONResponse(_as_json(request, None, job), status_code=202)


@router.post("/api/items/url", status_code=202)
def api_url(request: Request, who: Editor, session: DB, body: UrlIn) -> JSONResponse:
    """Capture the post at an http(s) URL; answers with its job."""
    job = _url_job(request, session, body.url, who)
    return JSONResponse(_as_json(request, None, job), status_code=202)


@router.get("/api/jobs")
def api_jobs(request: Request, who: Reader, session: DB) -> list[dict[str, Any]]:
    """The most recent jobs, newest first."""
    jobs = session.scalars(select(Job).order_by(Job.id.desc()).limit(RECENT)).all()
    return [_as_json(request, session, job) for job in jobs]


@router.get("/api/jobs/{job_id}")
def api_job(request: Request, who: Reader, session: DB, job_id: int) -> dict[str, Any]:
    """One job: its status, stages, and the item it made once there is one."""
    return _as_json(request, session, _job(session, job_id))


router.include_router(uploading)
