package io.umhflux.spring.boot;

import io.umhflux.UmhClient;
import java.util.Map;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.support.AutowireCandidateQualifier;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

/**
 * A {@code UmhClient} bean per helper of {@code umh.helpers}, named {@code umh.helpers.<name>} and qualified by
 * {@code <name>}: {@code @Qualifier("checksum") UmhClient<byte[], byte[]> checksum}. Each is the client of
 * {@link UmhHelpers#client(String)}, which owns it.
 */
final class UmhClientBeans implements BeanDefinitionRegistryPostProcessor, EnvironmentAware, BeanFactoryAware {
    private Environment environment;
    private BeanFactory beanFactory;

    @Override
    public void setEnvironment(Environment environment) {
        this.environment = environment;
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beanFactory = beanFactory;
    }

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
        if (!registry.containsBeanDefinition("umhHelpers")) {
            return; // the application made its own registry: its clients are its own too
        }
        Map<String, Object> helpers = Binder.get(environment)
                .bind("umh.helpers", Bindable.mapOf(String.class, Object.class)).orElse(Map.of());
        for (String name : helpers.keySet()) {
            String beanName = "umh.helpers." + name;
            if (registry.containsBeanDefinition(beanName)) {
                continue; // the application's own
            }
            RootBeanDefinition client = new RootBeanDefinition(UmhClient.class);
            client.setInstanceSupplier(() -> beanFactory.getBean(UmhHelpers.class).client(name));
            client.addQualifier(new AutowireCandidateQualifier(Qualifier.class, name));
            client.setDestroyMethodName(null); // UmhHelpers stops it, in its lifecycle phase
            client.setLazyInit(true); // made where it is injected
            registry.registerBeanDefinition(beanName, client);
        }
    }
}
