"""The one Jinja2 environment the page routes share."""

from fastapi.templating import Jinja2Templates

from app.settings import TEMPLATES_DIR

templates = Jinja2Templates(directory=TEMPLATES_DIR)
