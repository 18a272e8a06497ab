from __future__ import annotations

import getpass
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from jiuzhu.accounts.models import User
from jiuzhu.accounts.roles import Role
from jiuzhu.accounts.services import api_token_create, user_create


class Command(BaseCommand):
    help = (
        "Account chores: `accounts create USERNAME --role ROLE --region CODE`, "
        "`accounts token USERNAME --name NAME`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a user (asks for the password)")
        create.add_argument("username")
        create.add_argument("--role", required=True, choices=[r.value for r in Role])
        create.add_argument("--region", required=True, help="region code, e.g. 360823100")
        create.add_argument("--display-name", default="")
        token = sub.add_parser("token", help="issue an API token (shown once)")
        token.add_argument("username")
        token.add_argument("--name", required=True, help="what the token is for")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            password = getpass.getpass("password: ")
            try:
                created = user_create(
                    username=options["username"],
                    password=password,
                    role=options["role"],
                    region_code=options["region"],
                    display_name=options["display_name"],
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
            self.stdout.write(f"created {created.username} ({created.role}, {created.region_id})")
            return
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no such user: {options['username']}")
        _, clear = api_token_create(user=user, name=options["name"])
        self.stdout.write(clear)
