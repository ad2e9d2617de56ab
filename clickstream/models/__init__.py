"""Gold-layer SQL models, dbt-style: one ``SELECT`` per file, Jinja ``config()``/``ref()``/``var()``.

Input: a project folder (``sql/`` by default): ``project.yml`` and ``gold/<model>.sql`` (+ ``.yml``).
Output: ``load_project()`` -> ``Project`` of checked ``Model`` objects, which the streaming runner
runs and the ``clickstream sql`` commands show. Pure Python: nothing here imports pyspark.
"""

from clickstream.models.config import ModelConfig
from clickstream.models.errors import ModelError
from clickstream.models.project import Model, Project, load_project
from clickstream.models.tests import ModelTest

__all__ = ["Model", "ModelConfig", "ModelError", "ModelTest", "Project", "load_project"]
