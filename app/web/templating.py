"""The one Jinja2 environment the page routes share."""

from fastapi.templating import Jinja2Templates

from app.settings import asset_dir

templates = Jinja2Templates(directory=asset_dir("templates"))
