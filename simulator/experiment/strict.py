"""The strict building blocks of the experiment schema: numbers that refuse booleans and non-finite
values, and a model that refuses unknown keys."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt

Float = Annotated[float, Field(strict=True, allow_inf_nan=False)]  # an int is a float; a bool is not
Int = StrictInt


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
