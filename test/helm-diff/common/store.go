// The one-object stores under Helm's real Secrets and ConfigMaps drivers. This file lives in
// ../common and is linked into each major's module (../v3, ../v4): it needs only k8s.io/api and
// client-go, whose import paths are the same in both (their versions are each Helm's own).
package main

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
)

// secretStore holds the one Secret a case gives, for Helm's real Secrets driver. The harness only
// calls the driver's Get, which only calls Get here; the other methods of the embedded (nil)
// interface are never reached. It replaces client-go's fake clientset, which compiles every API
// group's typed clients.
type secretStore struct {
	typedcorev1.SecretInterface
	obj *corev1.Secret
}

func (s secretStore) Get(_ context.Context, name string, _ metav1.GetOptions) (*corev1.Secret, error) {
	if name != s.obj.Name {
		return nil, apierrors.NewNotFound(corev1.Resource("secrets"), name)
	}
	return s.obj.DeepCopy(), nil
}

// configMapStore is secretStore for Helm's ConfigMaps driver.
type configMapStore struct {
	typedcorev1.ConfigMapInterface
	obj *corev1.ConfigMap
}

func (s configMapStore) Get(_ context.Context, name string, _ metav1.GetOptions) (*corev1.ConfigMap, error) {
	if name != s.obj.Name {
		return nil, apierrors.NewNotFound(corev1.Resource("configmaps"), name)
	}
	return s.obj.DeepCopy(), nil
}
