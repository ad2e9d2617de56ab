"""The live dashboard: ``sources`` reads the gold and metrics tables (no Spark), ``figures`` turns
them into the numbers shown, ``app`` lays them out in Streamlit, ``launch`` starts ``streamlit run``.
"""
