"""Settings, read from the environment (secrets also from ``*_FILE``).

``JIUZHU_ENV`` chooses the profile: ``development`` (default: SQLite and files under
``var/``, secrets generated locally) or ``production`` (every secret required,
HTTPS-only cookies, HSTS). See docs/development.md and docs/security.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ

from jiuzhu.core.secrets import local_secret

env = environ.FileAwareEnv()

PACKAGE_DIR = Path(__file__).resolve().parent.parent
JIUZHU_ENV = env.str("JIUZHU_ENV", default="development")
PRODUCTION = JIUZHU_ENV == "production"
VAR_DIR = Path(env.str("JIUZHU_VAR_DIR", default=str(Path.cwd() / "var"))).resolve()

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY")
    JIUZHU_DATA_KEYS = env.str("JIUZHU_DATA_KEYS")
    JIUZHU_BLIND_INDEX_KEY = env.str("JIUZHU_BLIND_INDEX_KEY")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="") or local_secret(VAR_DIR, "secret_key", 50)
    JIUZHU_DATA_KEYS = env.str("JIUZHU_DATA_KEYS", default="") or (
        "k1:" + local_secret(VAR_DIR, "data_key_k1")
    )
    JIUZHU_BLIND_INDEX_KEY = env.str("JIUZHU_BLIND_INDEX_KEY", default="") or local_secret(
        VAR_DIR, "blind_index_key"
    )

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves Swagger UI from its own static files, not a CDN
    "django_htmx",
    "axes",
    "jiuzhu.core",
    "jiuzhu.regions",
    "jiuzhu.accounts",
    "jiuzhu.registry",
    "jiuzhu.feeds",
    "jiuzhu.monitoring",
    "jiuzhu.applications",
    "jiuzhu.assessment",
    "jiuzhu.services",
    "jiuzhu.policies",
    "jiuzhu.channels",
    "jiuzhu.supervision",
    "jiuzhu.funds",
    "jiuzhu.dashboards",
    "jiuzhu.synth",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jiuzhu.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "jiuzhu.config.urls"
WSGI_APPLICATION = "jiuzhu.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "jiuzhu.core.context_processors.navigation",
            ],
        },
    },
]

DATABASES: dict[str, Any] = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'jiuzhu.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web server and a command share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "jiuzhu.accounts.passwords.CharacterClassValidator"},
]

# Login hardening: django-axes locks a username+IP pair after 5 failures for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.5  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working day
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on a missing root
MEDIA_ROOT = VAR_DIR / "media"

# A directory holding a rule pack (YAML + SQL); empty = the default pack shipped with jiuzhu.
JIUZHU_RULE_PACK = env.str("JIUZHU_RULE_PACK", default="")
# Public holidays and make-up working weekends (ISO dates, comma-separated) for the legal
# time limits counted in working days; weekdays otherwise.
JIUZHU_HOLIDAYS = env.list("JIUZHU_HOLIDAYS", default=[])
JIUZHU_WORKING_WEEKENDS = env.list("JIUZHU_WORKING_WEEKENDS", default=[])
# 先行救助: the file is completed within this many working days of the payment.
JIUZHU_URGENT_FILE_DAYS = env.int("JIUZHU_URGENT_FILE_DAYS", default=5)
# The supervision phone printed on every public disclosure (监督电话).
JIUZHU_SUPERVISION_PHONE = env.str("JIUZHU_SUPERVISION_PHONE", default="12345")
# Where the public reaches this installation: links sent by SMS (the rating link) must be
# absolute, and there is no request to take the host from when the platform sends them.
JIUZHU_PUBLIC_URL = env.str(
    "JIUZHU_PUBLIC_URL", default=f"http://127.0.0.1:{env.str('PORT', default='8000')}"
).rstrip("/")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# Application logs must never carry personal data: log ids and counts, never values.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes logs every successful login at INFO (masked, but noisy).
        "axes": {"level": "WARNING"},
    },
}
