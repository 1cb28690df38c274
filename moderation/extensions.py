"""Flask extensions created once and bound to each app in create_app."""
from flask_migrate import Migrate

migrate = Migrate()
