# The reference app: one static binary (built by scripts/build-app.sh, which
# `apprun release` runs first) in an empty image. No base image is pulled.
FROM scratch
COPY build/hello-app /hello-app
ENV PORT=3000
EXPOSE 3000
USER 65534:65534
ENTRYPOINT ["/hello-app"]
