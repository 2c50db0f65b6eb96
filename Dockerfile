FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HUB_VAR_DIR=/app/var
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
RUN python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --home /app hub && chown -R hub /app/var \
    && mkdir -p /tmp/prometheus && chown hub /tmp/prometheus
USER hub

EXPOSE 8000
CMD ["gunicorn", "hub.wsgi:application", "-c", "python:hub.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "8"]
