"""Custom Rasa components, loaded by Rasa from config.yml (runs in Rasa's environment)."""
