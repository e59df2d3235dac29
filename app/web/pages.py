"""The HTML pages: the surface lab, the digit lab and the 1-D curve page."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def surface_lab(request: Request) -> HTMLResponse:
    """The surface lab: descent paths on contour, 3-D surface and cost curve."""
    return templates.TemplateResponse(request, "index.html")


@router.get("/mnist", response_class=HTMLResponse)
def digit_lab(request: Request) -> HTMLResponse:
    """The digit lab: train the MNIST network live and classify a drawn digit."""
    return templates.TemplateResponse(request, "mnist.html")


@router.get("/1d", response_class=HTMLResponse)
def curve_lab(request: Request) -> HTMLResponse:
    """The 1-D page: a ball rolling down a curve, the tangent and each step as an arrow."""
    return templates.TemplateResponse(request, "curve.html")
