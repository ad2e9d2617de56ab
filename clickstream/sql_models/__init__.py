"""Gold-layer SQL models, dbt-style: one ``SELECT`` per file, Jinja ``config()``/``ref()``/``var()``.

Input: a project folder (``sql/`` by default): ``project.yml`` and ``gold/<model>.sql`` (+ ``.yml``).
Output: ``load_project()`` -> ``Project`` of checked ``Model`` objects, which the streaming runner
runs and the ``clickstream sql`` commands show. Pure Python: nothing here imports pyspark.
"""

from clickstream.sql_models.data_tests import ModelTest
from clickstream.sql_models.model_config import ModelConfig
from clickstream.sql_models.model_errors import ModelError
from clickstream.sql_models.project import Model, Project, load_project

__all__ = ["Model", "ModelConfig", "ModelError", "ModelTest", "Project", "load_project"]
