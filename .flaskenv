# Read by the `flask` command in a checkout only (python-dotenv), never by gunicorn.
FLASK_APP=portal
PORTAL_ENV=development
